// expect: symlinks/hardlinks to host files cannot be made useful: hard links across mounts fail (EXDEV), and output harvesting skips symlinks and multi-link files.
const tries: [string, () => void][] = [
  ["symlink /etc/passwd", () => Deno.symlinkSync("/etc/passwd", "/work/sym_passwd")],
  ["symlink /etc/shadow", () => Deno.symlinkSync("/etc/shadow", "/work/sym_shadow")],
  ["hardlink /usr/bin/deno", () => Deno.linkSync("/usr/bin/deno", "/work/hard_deno")],
  ["hardlink /etc/passwd", () => Deno.linkSync("/etc/passwd", "/work/hard_passwd")],
];
for (const [name, f] of tries) {
  try { f(); console.log("MADE:", name); } catch (e) { console.log("BLOCKED:", name, (e as Error).name); }
}
Deno.writeTextFileSync("/work/real.txt", "real");
Deno.linkSync("/work/real.txt", "/work/real_link.txt");
console.log("MADE: inner hardlink real_link.txt");
