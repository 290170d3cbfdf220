// expect: with --allow-ffi, libc loads (it is in the jail) but unshare(CLONE_NEWUSER) is killed by seccomp (violation "unshare").
const libc = Deno.dlopen("libc.so.6", {
  unshare: { parameters: ["i32"], result: "i32" },
});
const r = libc.symbols.unshare(0x10000000);
console.log("ESCAPED: unshare returned", r);
