// expect: a busy loop is ended by RLIMIT_CPU (SIGXCPU/SIGKILL) or by the wall-clock kill; it never ends by itself.
let x = 0;
for (;;) x = (x + 1) % 1000003;
