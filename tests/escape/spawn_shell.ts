// expect: no shell or other program exists in the jail (Deno.Command fails: NotFound).
for (const cmd of ["/bin/sh", "sh", "/usr/bin/env", "/usr/bin/deno"]) {
  try {
    const out = await new Deno.Command(cmd, { args: cmd.endsWith("deno") ? ["eval", "console.log(Deno.pid)"] : ["-c", "id"] }).output();
    console.log(cmd.endsWith("deno") ? "NOTE:" : "ESCAPED:", "ran", cmd, new TextDecoder().decode(out.stdout).trim());
  } catch (e) {
    console.log("BLOCKED: spawn", cmd, (e as Error).name);
  }
}
