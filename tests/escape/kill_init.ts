// expect: the job cannot kill the jail's init (pid 1, other uid) nor any host process (not in its pid namespace).
const targets = [1, ...Deno.args.map(Number)];
for (const pid of targets) {
  try {
    Deno.kill(pid, "SIGKILL");
    console.log("ESCAPED: killed", pid);
  } catch (e) {
    console.log("BLOCKED: kill", pid, (e as Error).name);
  }
}
