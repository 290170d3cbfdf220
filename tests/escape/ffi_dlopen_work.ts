// expect: a shared object dropped into /work cannot be loaded (/work and /tmp are noexec).
const so = "/work/evil.so";
Deno.copyFileSync("/lib/x86_64-linux-gnu/libm.so.6", so);
try {
  Deno.dlopen(so, { cos: { parameters: ["f64"], result: "f64" } });
  console.log("ESCAPED: loaded", so);
} catch (e) {
  console.log("BLOCKED: dlopen", so, String(e).slice(0, 100));
}
