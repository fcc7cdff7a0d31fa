;; A counted loop of exactly known cost (COST_TABLE.instruction = 1, structure free):
;;   first metering block:  i32.const, local.set, loop          = 2 (loop itself costs 0)
;;   the loop's body:       local.get, i32.const, i32.sub,
;;                          local.tee, br_if                    = 5, charged on each of 1000 iterations
;;   after br_if / the loop's end: only `end`s                  = 0
;; so the job costs 2 + 5 * 1000 = 5002 fuel.
(module
  (func (export "run")
    (local $i i32)
    i32.const 1000
    local.set $i
    loop $again
      local.get $i
      i32.const 1
      i32.sub
      local.tee $i
      br_if $again
    end))
