// expect: DNS resolution fails (no network, no resolv.conf, no AF_INET sockets).
try {
  const a = await Deno.resolveDns("example.com", "A");
  console.log("ESCAPED: resolved", a.join(","));
} catch (e) {
  console.log("BLOCKED: dns", String(e).slice(0, 120));
}
