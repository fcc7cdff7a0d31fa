;; call_indirect with the wrong signature (empty input: entry 0 is [] -> [], called as [i32] -> [])
;; or of a null entry (any input: entry 1 was never set): both trap indirect_call_mismatch.
(module
  (import "docklock" "input_size" (func $input_size (result i32)))
  (type $v (func))
  (type $i (func (param i32)))
  (table 2 funcref)
  (elem (i32.const 0) $a)
  (func $a)
  (func (export "run")
    (call_indirect (type $i) (i32.const 7) (select (i32.const 1) (i32.const 0) (call $input_size)))))
