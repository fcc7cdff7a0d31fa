;; A host call with a bad pointer: output_write of 7 bytes at 65530 of a 1-page memory.
;; The host traps memory_out_of_bounds (after charging the call) and writes nothing.
(module
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (memory 1)
  (func (export "run")
    (call $output_write (i32.const 0) (i32.const 4))
    (call $output_write (i32.const 65530) (i32.const 7))))
