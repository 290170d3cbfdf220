// expect: the cgroup memory limit OOM-kills the job (outcome oom=1); the host is unaffected.
const keep: Uint8Array[] = [];
for (let i = 0; i < 100000; i++) {
  const a = new Uint8Array(16 << 20);
  a.fill(1);
  keep.push(a);
}
console.log("ESCAPED: allocated", keep.length * 16, "MB");
