;; Every host call once, in this order: input_size, input_read (the whole input to 256),
;; random_fill (16 bytes at 512), clock (stored as i64 LE at 528), log ("hello" from 128),
;; output_write (the input), output_write (the 16 random bytes and the 8 clock bytes).
;; The witness root pins each call, its arguments and its data.
(module
  (import "docklock" "input_size" (func $input_size (result i32)))
  (import "docklock" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (import "docklock" "random_fill" (func $random_fill (param i32 i32)))
  (import "docklock" "clock" (func $clock (result i64)))
  (import "docklock" "log" (func $log (param i32 i32)))
  (memory 1)
  (data (i32.const 128) "hello")
  (func (export "run")
    (local $n i32)
    (local.set $n (call $input_size))
    (drop (call $input_read (i32.const 0) (i32.const 256) (local.get $n)))
    (call $random_fill (i32.const 512) (i32.const 16))
    (i64.store (i32.const 528) (call $clock))
    (call $log (i32.const 128) (i32.const 5))
    (call $output_write (i32.const 256) (local.get $n))
    (call $output_write (i32.const 512) (i32.const 24))))
