// expect: through FFI, socket() works only for AF_UNIX (others fail: EAFNOSUPPORT from seccomp), clone3 and io_uring_setup fail with ENOSYS; none of these kills the job.
const libc = Deno.dlopen("libc.so.6", {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  syscall: { parameters: ["i64", "i64", "i64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
});
const errno = () => new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
for (const [name, fam] of [["AF_UNIX", 1], ["AF_INET", 2], ["AF_INET6", 10], ["AF_NETLINK", 16], ["AF_PACKET", 17], ["AF_VSOCK", 40]] as const) {
  const fd = libc.symbols.socket(fam, 2 /* SOCK_DGRAM */, 0);
  console.log(fd >= 0 ? (fam === 1 ? "OK:" : "ESCAPED:") : "BLOCKED:", "socket", name, fd >= 0 ? "fd" : "errno " + errno());
}
for (const [name, nr] of [["clone3", 435n], ["io_uring_setup", 425n]] as const) {
  const r = libc.symbols.syscall(nr, 0n, 0n);
  console.log(r < 0n ? "BLOCKED:" : "ESCAPED:", name, r < 0n ? "errno " + errno() : "returned " + r);
}
