"""Regenerates model/mutants/*.patch and LIST from the (file, original, mutated, suite)
table below: each entry's original text must occur exactly once in the current source.
Run it after changing code that a seeded bug targets; model/mutants.sh then checks that
every patch still applies and is caught.

usage: generate.py [substring ...]   rebuild only the patches whose name contains one of
the substrings (LIST is always rewritten whole); with none, every patch."""
import subprocess, sys
import os
ROOT=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
muts = [
 ("01-publish-relaxed", "src/pipe/queue.rs",
  "            after << 1,\n            Ordering::Release,\n            Ordering::Acquire,",
  "            after << 1,\n            Ordering::Relaxed,\n            Ordering::Acquire,",
  "loom loom_pipe_chunks"),
 ("02-flush-no-recheck-after-failed-cas", "src/pipe/queue.rs",
  "                self.published.0.store(after << 1, Ordering::Release);\n                Publish::WakeReader",
  "                self.published.0.store(after << 1, Ordering::Release);\n                Publish::Done",
  "loom loom_pipe_chunks"),
 ("03-no-wake-after-publish", "src/pipe/mod.rs",
  "        if publish == Publish::WakeReader {\n            self.shared.wake(self.peer());\n        }",
  "        let _ = publish;",
  "loom loom_pipe_multipart loom_registry_bind_connect"),
 ("04-connect-no-reread-after-failed-pend", "src/socket/mod.rs",
  "                    Err(_found) => continue,",
  "                    Err(_found) => break mine,",
  "loom loom_registry_bind_connect"),
 ("05-pending-entry-dropped-on-close", "src/registry.rs",
  "        if !self.entries.values().any(owned) {\n            return Err(());\n        }\n        let mut next = self.clone();\n        next.entries.retain(|_, e| !owned(e));",
  "        let mut next = self.clone();\n        next.entries.retain(|_, e| !owned(e) && !matches!(e, Entry::Pending(_)));",
  "loom loom_registry_pending_close"),
 ("06-seal-without-release", "src/inbox.rs",
  "        let head = self.head.swap(sealed(), Ordering::AcqRel);",
  "        let head = self.head.swap(sealed(), Ordering::Acquire);",
  "loom loom_registry_close_connect"),
 ("07-credit-ignores-sleeping-writer", "src/pipe/queue.rs",
  "        if old & WRITER_ASLEEP != 0 {\n            Credit::WakeWriter\n        } else {",
  "        if old & WRITER_ASLEEP != 0 {\n            Credit::Done\n        } else {",
  "loom loom_pipe_chunks"),
 ("08-spare-chunk-handoff-relaxed", "src/pipe/queue.rs",
  "                let old = self.spare.swap(done, Ordering::Release);",
  "                let old = self.spare.swap(done, Ordering::Relaxed);",
  "loom loom_pipe_chunks"),
 ("09-registry-publish-relaxed", "src/cow.rs",
  "                .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)",
  "                .compare_exchange(cur, new, Ordering::Relaxed, Ordering::Acquire)",
  "loom loom_registry_bind_bind loom_registry_bind_connect"),
 ("10-registry-lost-update", "src/cow.rs",
  "            match self\n                .current\n                .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)\n            {",
  "            self.current.store(new, Ordering::Release);\n            match Ok::<_, *mut Node<T>>(cur) {",
  "loom loom_registry_bind_bind"),
 ("11-notify-never-notifies-sleepers", "src/wait.rs",
  "        if old & SLEEPER != 0 {\n            let _guard",
  "        if old & SLEEPER != 0 && false {\n            let _guard",
  "loom loom_wake"),
 ("12-gate-without-acquire-release", "src/socket/gate.rs",
  "        if self.state.swap(OPEN, Ordering::Release) == CONTENDED {",
  "        if self.state.swap(OPEN, Ordering::Relaxed) == CONTENDED {",
  "loom loom_socket_shared"),
 ("13-close-does-not-wake-peer", "src/pipe/mod.rs",
  "            .fetch_or(closed_bit(self.side), Ordering::AcqRel);\n        self.shared.wake_with(self.peer(), old);",
  "            .fetch_or(closed_bit(self.side), Ordering::AcqRel);\n        let _ = old;",
  "loom loom_pair_refuse"),
 ("14-shutdown-does-not-wake-sockets", "src/context.rs",
  "        for n in notifies {\n            n.wake();\n        }",
  "        drop(notifies);",
  "loom loom_shutdown"),
 ("15-pending-attached-in-reverse-order", "src/registry.rs",
  "            Some(Entry::Pending(list)) => list.clone(),\n            None => Vec::new(),",
  "            Some(Entry::Pending(list)) => list.iter().rev().cloned().collect(),\n            None => Vec::new(),",
  "unit reference_ops connect"),
 ("16-round-robin-cursor-not-advanced", "src/route/load_balance.rs",
  "                Ok(()) => {\n                    self.advance_past(i);\n                    return Ok(id);",
  "                Ok(()) => {\n                    return Ok(id);",
  "unit reference_ops"),
 ("17-conflate-writer-ignores-sleeping-reader", "src/pipe/latest.rs",
  "        if old == asleep() {\n            return Publish::WakeReader;\n        }",
  "        if old == asleep() {\n            return Publish::Done;\n        }",
  "loom loom_conflate"),
 ("18-conflate-publish-relaxed", "src/pipe/latest.rs",
  "        let old = self.slot.swap(node, Ordering::AcqRel);",
  "        let old = self.slot.swap(node, Ordering::Relaxed);",
  "loom loom_conflate"),
 ("19-epoch-guard-dropped-early", "src/cow.rs",
  "        let _guard = domain.pin();\n        // Acquire: pairs with the Release half of the CAS in `update` that published\n        // this node, so its value is fully written before we read it.\n        let node = self.current.load(Ordering::Acquire);",
  "        let guard = domain.pin();\n        // Acquire: pairs with the Release half of the CAS in `update` that published\n        // this node, so its value is fully written before we read it.\n        let node = self.current.load(Ordering::Acquire);\n        drop(guard);",
  "miri cow::tests"),
 ("20-routing-id-published-relaxed", "src/pipe/mod.rs",
  "        self.state.fetch_or(id_bit(side), Ordering::Release);",
  "        self.state.fetch_or(id_bit(side), Ordering::Relaxed);",
  "loom loom_router_identity"),
 ("21-router-never-rechecks-unidentified-pipes", "src/socket/router.rs",
  "        if !self.unidentified.is_empty() {\n            let waiting",
  "        if false {\n            let waiting",
  "loom loom_router_identity"),
 ("22-sub-no-replay-on-attach", "src/socket/xsub.rs",
  "            self.subscriptions.for_each(|prefix| {\n                let _ = end.send(subscription(SUBSCRIBE, prefix));\n            });",
  "            let _ = end;",
  "shuttle shuttle_pubsub"),
 ("23-req-accepts-replies-from-any-peer", "src/socket/req.rs",
  "            if from != pipe {",
  "            if from != pipe && false {",
  "unit spec_reqrep"),
 ("24-async-poll-no-recheck-after-watch", "src/socket/mod.rs",
  "            if !self.notify.changed(key) {\n                return Poll::Pending;",
  "            if !self.notify.changed(key) || true {\n                return Poll::Pending;",
  "loom loom_async_waker"),
 ("25-notify-never-wakes-watchers", "src/wait.rs",
  "        if old & WATCHED != 0 {",
  "        if old & WATCHED != 0 && false {",
  "loom loom_async_waker"),
 ("26-poller-entry-waker-does-not-wake-poller", "src/poller.rs",
  "            self.shared.dirty.lock().push(self.index);\n        }\n        self.shared.notify.wake();",
  "            self.shared.dirty.lock().push(self.index);\n        }",
  "loom loom_poller"),
 ("27-poller-never-rechecks-dirty-entries", "src/poller.rs",
  "                self.entries[i].waker.dirty.swap(false, Ordering::AcqRel);\n                todo.push(i);",
  "                self.entries[i].waker.dirty.swap(false, Ordering::AcqRel);\n                let _ = i;",
  "unit poller"),
 ("28-pool-drop-fast-path-relaxed", "src/pool.rs",
  "        if refs.load(Ordering::Acquire) != 1 {",
  "        if refs.load(Ordering::Relaxed) != 1 {",
  "loom loom_pool"),
 ("29-pool-remote-push-relaxed", "src/pool.rs",
  "stack.compare_exchange_weak(head, hdr.as_ptr(), Ordering::Release, Ordering::Relaxed)",
  "stack.compare_exchange_weak(head, hdr.as_ptr(), Ordering::Relaxed, Ordering::Relaxed)",
  "loom loom_pool"),
 ("30-pool-exit-leaves-remote-stack-open", "src/pool.rs",
  "let mut node = stack.swap(CLOSED, Ordering::Acquire);",
  "let mut node = stack.swap(ptr::null_mut(), Ordering::Acquire);",
  "loom loom_pool"),
 ("31-sleep-after-unarmed-attempt", "src/socket/mod.rs",
  "                unarmed -= 1;\n                spin_loop();\n                continue;",
  "                unarmed -= 1;\n                spin_loop();",
  "loom loom_pipe_multipart"),
 ("32-unarmed-claim-relaxed", "src/pipe/queue.rs",
  "        let p = self.published.0.load(Ordering::Acquire) >> 1;\n        if p == r.read {",
  "        let p = self.published.0.load(Ordering::Relaxed) >> 1;\n        if p == r.read {",
  "loom loom_pipe_multipart loom_registry_bind_connect"),
 ("33-recv-no-reread-after-peer-closed", "src/pipe/mod.rs",
  "        self.read_once(true).ok_or(RecvFail::PeerGone)\n    }",
  "        Err(RecvFail::PeerGone)\n    }",
  "loom loom_recv_close"),
 ("34-watch-keeps-old-waker", "src/wait.rs",
  "                if !w.will_wake(waker) {\n                    w.clone_from(waker);",
  "                if w.will_wake(waker) {\n                    w.clone_from(waker);",
  "unit async_rewake"),
 ("35-snapshot-retired-before-cas", "src/cow.rs",
  "            match self\n                .current\n                .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)\n            {\n                Ok(_) => {\n                    // SAFETY: `cur` came from `Box::into_raw`, our CAS unlinked it, and\n                    // only the thread whose CAS unlinks a node retires it.\n                    unsafe { guard.defer_destroy(cur) };\n                    return Ok(result);\n                }",
  "            // SAFETY: (wrong) retired before the CAS that unlinks it.\n            unsafe { guard.defer_destroy(cur) };\n            match self\n                .current\n                .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)\n            {\n                Ok(_) => {\n                    return Ok(result);\n                }",
  "miri cow::tests registry::tests"),
 ("36-fair-queue-drop-keeps-cursor", "src/route/fair_queue.rs",
  "                Err(RecvFail::PeerGone) => {\n                    self.drop_at(i);\n                    pipes.remove(id);",
  "                Err(RecvFail::PeerGone) => {\n                    self.order.remove(i);\n                    pipes.remove(id);",
  "unit reference_ops fair_queue_readiness"),
]
# Each patch is the diff from the file as it is now (uncommitted edits included) to its
# mutant, so it applies to the working tree that model/mutants.sh copies: the current
# text is staged in a scratch index, never in the real one.
import shutil, tempfile
real_index=subprocess.run(['git','rev-parse','--path-format=absolute','--git-path','index'],cwd=ROOT,capture_output=True,text=True,check=True).stdout.strip()
scratch=tempfile.mkdtemp()
index=f'{scratch}/index'
shutil.copy(real_index,index)
genv=dict(os.environ,GIT_INDEX_FILE=index)
listing=[]
only=sys.argv[1:]
for name, path, a, b, suite in muts:
    listing.append(f"{name}.patch {suite}")
    if only and not any(o in name for o in only):
        continue
    full=f'{ROOT}/{path}'
    s=open(full).read()
    n=s.count(a)
    if n!=1: sys.exit(f"{name}: pattern found {n} times")
    subprocess.run(['git','add','--',path],cwd=ROOT,env=genv,check=True)
    open(full,'w').write(s.replace(a,b))
    d=subprocess.run(['git','diff','--',path],cwd=ROOT,env=genv,capture_output=True,text=True).stdout
    open(full,'w').write(s)
    open(f'{ROOT}/model/mutants/{name}.patch','w').write(d)
open(f'{ROOT}/model/mutants/LIST','w').write("# patch  suite  test targets (the suite must fail with the patch applied)\n"+"\n".join(listing)+"\n")
shutil.rmtree(scratch)
print(len(muts),"patches")
