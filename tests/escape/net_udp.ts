// expect: no UDP socket can be opened or used (EAFNOSUPPORT from seccomp, no interface anyway).
try {
  const s = Deno.listenDatagram({ port: 0, transport: "udp", hostname: "0.0.0.0" });
  await s.send(new TextEncoder().encode("leak"), { transport: "udp", hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 9) });
  console.log("ESCAPED: udp datagram sent");
} catch (e) {
  console.log("BLOCKED: udp", String(e).slice(0, 120));
}
