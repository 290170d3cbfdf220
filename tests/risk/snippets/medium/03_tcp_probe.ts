// Probe whether the cache service answers.
const conn = await Deno.connect({ hostname: "cache.internal", port: 6379 });
await conn.write(new TextEncoder().encode("PING\r\n"));
const buf = new Uint8Array(64);
await conn.read(buf);
conn.close();
