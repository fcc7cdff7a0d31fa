;; A start function: the instrumenter turns it into an export that the host calls, metered, after
;; setting the fuel and before run. It stores 42; run adds 1 and writes the u32 (43).
;; Fuel: start 5 (i32.const, global.set, i32.const, global.get, i32.store)
;;     + run 9 (i32.const, i32.const, i32.load, i32.const, i32.add, i32.store, i32.const, i32.const, call)
;;     + the output_write call: hostCall 20 + ceil(4 / 8) = 21
;;     = 35. With 4 fuel the job runs out inside the start function.
(module
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (memory 1)
  (global $g (mut i32) (i32.const 0))
  (func $init
    (global.set $g (i32.const 42))
    (i32.store (i32.const 0) (global.get $g)))
  (start $init)
  (func (export "run")
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (call $output_write (i32.const 0) (i32.const 4))))
