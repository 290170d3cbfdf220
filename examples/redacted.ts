// Output passes the privacy filter before it leaves the worker: the e-mail
// address and the key below come back as [REDACTED:...], and the result's
// `privacy` field counts what was found.
const customer = { name: "Ada", email: ["ada.lovelace", "example.org"].join("@") };
const key = "AKIA" + "IOSFODNN7REALKEY";
console.log(`notify ${customer.email} using ${key}`);
