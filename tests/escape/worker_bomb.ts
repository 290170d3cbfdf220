// expect: the pids cgroup limit (and RLIMIT_NPROC) stops thread/Worker creation; the job fails, the host is fine.
const code = URL.createObjectURL(new Blob(["setInterval(() => {}, 1000)"], { type: "application/javascript" }));
const ws: Worker[] = [];
try {
  for (let i = 0; i < 2000; i++) ws.push(new Worker(code, { type: "module" }));
  await new Promise((r) => setTimeout(r, 2000));
  console.log("WORKERS:", ws.length);
} catch (e) {
  console.log("BLOCKED: worker", ws.length, String(e).slice(0, 80));
}
