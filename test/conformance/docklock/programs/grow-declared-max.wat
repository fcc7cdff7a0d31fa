;; As grow.wat, but the memory declares a maximum of 2 pages: the job's maximum is min(2, MAX_PAGES),
;; so growing by 1 works and growing by 2 is out_of_memory (not memory.grow returning -1).
(module
  (import "docklock" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (memory 1 2)
  (func (export "run")
    (drop (call $input_read (i32.const 0) (i32.const 0) (i32.const 4)))
    (i32.store (i32.const 4) (memory.grow (i32.load (i32.const 0))))
    (i32.store (i32.const 8) (memory.size))
    (call $output_write (i32.const 4) (i32.const 8))))
