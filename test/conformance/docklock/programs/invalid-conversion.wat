;; i32.trunc_f64_s of NaN (empty input) or of 1e100 (any input): trap invalid_conversion.
(module
  (import "docklock" "input_size" (func $input_size (result i32)))
  (func (export "run")
    (drop (i32.trunc_f64_s
      (select (f64.const 1e100) (f64.const nan) (call $input_size))))))
