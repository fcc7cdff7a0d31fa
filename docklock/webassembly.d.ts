/**
 * The part of the WebAssembly JS API that DockLock uses. Node.js has it at run time, but the
 * project compiles without the DOM library that declares it (lib: ES2023), so it is declared here.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array<ArrayBuffer>);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Global {
    value: unknown;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class RuntimeError extends Error {}
  class CompileError extends Error {}
  class LinkError extends Error {}
  function validate(bytes: Uint8Array<ArrayBuffer>): boolean;
}
