;; memory.grow by the input's first 4 bytes (u32 LE) from 1 page (no declared maximum, so the job's
;; is MAX_PAGES = 256). Writes what memory.grow returned and memory.size after it (2 × u32 LE).
;; Each page asked for costs COST_TABLE.growPage fuel; growing past 256 pages is out_of_memory.
(module
  (import "docklock" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (memory 1)
  (func (export "run")
    (drop (call $input_read (i32.const 0) (i32.const 0) (i32.const 4)))
    (i32.store (i32.const 4) (memory.grow (i32.load (i32.const 0))))
    (i32.store (i32.const 8) (memory.size))
    (call $output_write (i32.const 4) (i32.const 8))))
