;; Logs the 1-byte line "!" 257 times: the 257th line is over DEFAULT_JOB_LIMITS.maxLogLines (256),
;; trap log_limit. With limits.maxLogBytes = 100 the 101st line is over the byte cap instead.
(module
  (import "docklock" "log" (func $log (param i32 i32)))
  (memory 1)
  (data (i32.const 0) "!")
  (func (export "run")
    (local $i i32)
    loop $again
      (call $log (i32.const 0) (i32.const 1))
      (local.tee $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (i32.const 257)))
    end))
