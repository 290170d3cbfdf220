// expect: writes stop at the /work tmpfs size (ENOSPC) or RLIMIT_FSIZE; /tmp is a small tmpfs too; the host disk is untouched.
for (const dir of ["/work", "/tmp"]) {
  const chunk = new Uint8Array(1 << 20);
  let n = 0;
  try {
    const f = Deno.openSync(dir + "/fill.bin", { write: true, create: true });
    for (; n < 100000; n++) f.writeSync(chunk);
    console.log("ESCAPED: wrote", n, "MB to", dir);
  } catch (e) {
    console.log("BLOCKED: fill", dir, "after", n, "MB", (e as Error).name);
  }
  try { Deno.removeSync(dir + "/fill.bin"); } catch { /* */ }
}
