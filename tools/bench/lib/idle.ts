/** A process that only waits: the memory floor of a node process with the SWC loader. */
setInterval(() => undefined, 2 ** 30);
