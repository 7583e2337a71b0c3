import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Set by SIGTERM and SIGINT; read between windows and before each read.
nonisolated(unsafe) private var stopSignalled: sig_atomic_t = 0
/// Set by SIGHUP (sidecar mode: reload the configuration).
nonisolated(unsafe) private var reloadSignalled: sig_atomic_t = 0
/// The pipe a stop signal writes to, waking a read blocked on a live stream.
nonisolated(unsafe) private var stopPipe: (read: Int32, write: Int32) = (-1, -1)

/// SIGTERM and SIGINT mean the same everywhere: stop reading, finish and flush what was read,
/// write the report, remove temporaries, exit as documented. Their handlers only set a flag
/// and write to a pipe (both async-signal-safe); readers and loops look at those.
enum StopSignals {
    /// Installs the stop handlers, and ignores SIGPIPE and SIGXFSZ so a reader that goes away or
    /// a file-size limit (`ulimit -f`) is a write failure the accounting sees (`export_failed`),
    /// not the end of the process before its report.
    static func install() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { return }
        stopPipe = (descriptors[0], descriptors[1])
        handle([SIGTERM, SIGINT]) { _ in
            stopSignalled = 1
            var byte: UInt8 = 1
            _ = write(stopPipe.write, &byte, 1)
        }
    }

    /// Installs `handler` for `signals` and unblocks them: a parent may hand down a mask that
    /// blocks them (test runners do); a signal that came before now is delivered here.
    private static func handle(_ signals: [Int32], with handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals {
            sigaction(signal, &action, nil)
            sigaddset(&mask, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    }

    /// Lets `read` end its streams at a stop, waking a read blocked on a live stream.
    static func configure(_ read: inout ReadOptions) {
        read.stopRequested = { stopSignalled != 0 }
        read.stopDescriptor = stopPipe.read
    }

    /// SIGHUP sets the reload flag and wakes `waitForStopOrReload` through the stop pipe.
    static func installReload() {
        handle([SIGHUP]) { _ in
            reloadSignalled = 1
            var byte: UInt8 = 2
            _ = write(stopPipe.write, &byte, 1)
        }
    }

    /// Waits for a stop or a reload; returns `true` for a reload (its flag cleared), `false`
    /// once a stop has come.
    static func waitForStopOrReload() -> Bool {
        var byte: UInt8 = 0
        while stopSignalled == 0 {
            _ = read(stopPipe.read, &byte, 1)
            if reloadSignalled != 0 && stopSignalled == 0 {
                reloadSignalled = 0
                return true
            }
        }
        return false
    }
}
