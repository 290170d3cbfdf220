// expect: mount(2) through FFI is denied by seccomp: the jail is killed, violation "mount".
const libc = Deno.dlopen("libc.so.6", { mount: { parameters: ["buffer", "buffer", "buffer", "u64", "pointer"], result: "i32" } });
const s = (x: string) => new TextEncoder().encode(x + "\0");
const r = libc.symbols.mount(s("none"), s("/tmp"), s("tmpfs"), 0n, null);
console.log("ESCAPED: mount returned", r);
