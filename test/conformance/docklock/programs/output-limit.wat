;; Writes exactly DEFAULT_JOB_LIMITS.maxOutputBytes (1 MiB, the whole 16-page memory), which fits,
;; then 1 byte more: trap output_limit. The output so far (1 MiB of zeros) is kept.
(module
  (import "docklock" "output_write" (func $output_write (param i32 i32)))
  (memory 16)
  (func (export "run")
    (call $output_write (i32.const 0) (i32.const 1048576))
    (call $output_write (i32.const 0) (i32.const 1))))
