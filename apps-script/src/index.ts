// Public surface of the bundle: build.mjs exposes these as Apps Script globals.
export { flushOutbox, handleChange, handleEdit, onOpen, setUp, showStatus, syncNow } from "./main";
