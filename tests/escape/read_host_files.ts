// expect: host-only files (/etc/shadow, a canary under the host /tmp, /root, /home, /var) are absent in the jail.
const paths = ["/etc/shadow", "/root/.bashrc", "/home", "/var/log", "/proc/1/root/etc/shadow", "/usr/bin/env", ...Deno.args];
for (const p of paths) {
  try {
    const s = await Deno.readTextFile(p);
    console.log("ESCAPED: read", p, s.length);
  } catch (e) {
    console.log("BLOCKED: read", p, (e as Error).name);
  }
}
