// expect: only /work and the jail's own /tmp are writable; / /etc /usr/bin /dev /proc/sys writes fail (EROFS/EACCES).
const paths = ["/evil", "/etc/passwd", "/etc/evil", "/usr/bin/deno", "/dev/evil", "/proc/sys/kernel/hostname", "/lib/evil"];
for (const p of paths) {
  try {
    await Deno.writeTextFile(p, "x");
    console.log("ESCAPED: wrote", p);
  } catch (e) {
    console.log("BLOCKED: write", p, (e as Error).name);
  }
}
await Deno.writeTextFile("/work/ok.txt", "inside");
await Deno.writeTextFile("/tmp/ok.txt", "inside");
console.log("OK: /work and /tmp writable");
