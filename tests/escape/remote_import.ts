// expect: remote imports fail (--no-remote in the runner; no network in the jail even without it).
try {
  const m = await import("https://deno.land/std@0.224.0/version.ts");
  console.log("ESCAPED: remote import", Object.keys(m));
} catch (e) {
  console.log("BLOCKED: remote import", String(e).slice(0, 120));
}
