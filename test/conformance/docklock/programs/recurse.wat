;; f(n) calls f(n-1) … f(0): n+1 calls of $f. The depth n is the input's first 4 bytes (u32 LE).
;; $f's frame cost: FRAME_BASE 8 + 1 param + 0 locals + 4 scratch locals + 2 operands at most
;; (local.get; i32.const) + 3 for the injected code = 18 units. run's own frame counts first (18
;; units too: 3 operands at most), so floor((STACK_LIMIT - 18) / 18) = 1819 calls of $f fit: depth
;; 1818 returns, depth 1819 is stack_exhausted.
(module
  (import "docklock" "input_read" (func $input_read (param i32 i32 i32) (result i32)))
  (memory 1)
  (func $f (param $n i32)
    local.get $n
    i32.eqz
    if
      return
    end
    local.get $n
    i32.const 1
    i32.sub
    call $f)
  (func (export "run")
    (drop (call $input_read (i32.const 0) (i32.const 0) (i32.const 4)))
    (call $f (i32.load (i32.const 0)))))
