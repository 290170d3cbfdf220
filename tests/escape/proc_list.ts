// expect: /proc shows only the jail's processes (init as pid 1, deno); no host process is visible.
const pids: number[] = [];
for (const e of Deno.readDirSync("/proc")) if (/^\d+$/.test(e.name)) pids.push(Number(e.name));
console.log("PIDS:", pids.sort((a, b) => a - b).join(","));
console.log("SELF:", Deno.pid, "UID:", Deno.uid(), "GID:", Deno.gid(), "HOST:", Deno.hostname());
console.log(pids.length <= 3 ? "BLOCKED: only jail pids" : "ESCAPED: " + pids.length + " pids visible");
