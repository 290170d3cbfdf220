// Resolve the mirror and download the index from the fastest address.
const addrs = await Deno.resolveDns("mirror.example.org", "A");
const res = await fetch(`https://mirror.example.org/index.json`);
console.log(addrs.length, (await res.json()).packages.length);
const ws = new WebSocket("wss://mirror.example.org/events");
ws.onmessage = (m) => console.log(m.data);
