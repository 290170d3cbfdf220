// Install the missing package system-wide.
const p = new Deno.Command("sh", { args: ["-c", "sudo apt-get install -y jq"] });
await p.output();
