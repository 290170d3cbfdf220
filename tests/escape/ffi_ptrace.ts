// expect: ptrace through FFI is denied by seccomp: the jail is killed, violation "ptrace".
const libc = Deno.dlopen("libc.so.6", { ptrace: { parameters: ["i64", "i32", "pointer", "pointer"], result: "i64" } });
const r = libc.symbols.ptrace(16n /* PTRACE_ATTACH */, 1, null, null);
console.log("ESCAPED: ptrace returned", r);
