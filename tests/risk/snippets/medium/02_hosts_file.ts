// Check what the sandbox resolves for a host name.
const hosts = await Deno.readTextFile("/etc/hosts");
const line = hosts.split("\n").find((l) => l.includes("gateway"));
console.log(line ?? "not found");
