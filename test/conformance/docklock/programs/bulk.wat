;; Bulk memory charged by size. Input: fill length, copy length (2 × u32 LE). memory.fill writes
;; 0xab over [64, 64+fill), memory.copy copies [64, 64+copy) to 4096, memory.init copies the passive
;; segment "docklock" (8 bytes) to 8192, data.drop drops it. Each of the three costs, besides its
;; instruction, ceil(n / COST_TABLE.bytesPerFuel) for its n bytes, charged before it runs (a fill
;; past the end of the 2-page memory is charged, then traps memory_out_of_bounds).
;; Output: 16 bytes at 4096, then the 8 bytes at 8192.
(module
  (import "docklock" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (memory 2)
  (data $d "docklock")
  (func (export "run")
    (drop (call $input_read (i32.const 0) (i32.const 0) (i32.const 8)))
    (memory.fill (i32.const 64) (i32.const 0xab) (i32.load (i32.const 0)))
    (memory.copy (i32.const 4096) (i32.const 64) (i32.load (i32.const 4)))
    (memory.init $d (i32.const 8192) (i32.const 0) (i32.const 8))
    (data.drop $d)
    (call $output_write (i32.const 4096) (i32.const 16))
    (call $output_write (i32.const 8192) (i32.const 8))))
