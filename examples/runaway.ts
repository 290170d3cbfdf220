// A job that never ends: the worker kills the whole jail at the deadline
// and the result is `timeout`.
let n = 0;
while (true) n++;
