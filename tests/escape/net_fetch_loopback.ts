// expect: fetch to the host's loopback server fails (own netns, lo down, socket(AF_INET) -> EAFNOSUPPORT).
const url = Deno.args[0] ?? "http://127.0.0.1:8000/";
try {
  const r = await fetch(url);
  console.log("ESCAPED: fetched", r.status, (await r.text()).slice(0, 40));
} catch (e) {
  console.log("BLOCKED: fetch", String(e).slice(0, 120));
}
