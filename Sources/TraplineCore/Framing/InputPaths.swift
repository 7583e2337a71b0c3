#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Expands input arguments into the files to read, in a stable order.
package enum InputPaths {
    /// What one argument expanded to.
    package struct Expansion: Sendable {
        /// Files to read, in order (`-` for stdin).
        package var files: [String] = []
        /// Arguments that do not exist or cannot be listed.
        package var failures: [IOFailure] = []
        /// Directories that held no file.
        package var emptyDirectories: [String] = []
    }

    /// Expands `arguments`: `-` stays stdin, a file stays itself, a directory becomes every
    /// regular file below it, recursively, sorted by path bytes so runs are reproducible.
    /// Symbolic links to files are followed; links to directories are not (no cycles).
    package static func expand(_ arguments: [String]) -> Expansion {
        var expansion = Expansion()
        for argument in arguments {
            if argument == "-" {
                expansion.files.append(argument)
                continue
            }
            var info = stat()
            guard stat(argument, &info) == 0 else {
                expansion.failures.append(IOFailure(path: argument, operation: "open", errorNumber: errno))
                continue
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                let before = expansion.files.count
                walk(directory: argument, into: &expansion)
                if expansion.files.count == before { expansion.emptyDirectories.append(argument) }
            } else {
                expansion.files.append(argument)
            }
        }
        return expansion
    }

    private static func walk(directory: String, into expansion: inout Expansion) {
        guard let handle = opendir(directory) else {
            expansion.failures.append(IOFailure(path: directory, operation: "opendir", errorNumber: errno))
            return
        }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        closedir(handle)
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var linkInfo = stat()
            guard lstat(path, &linkInfo) == 0 else { continue }
            if linkInfo.st_mode & S_IFMT == S_IFDIR {
                walk(directory: path, into: &expansion)
            } else if linkInfo.st_mode & S_IFMT == S_IFLNK {
                var target = stat()
                if stat(path, &target) == 0 && target.st_mode & S_IFMT != S_IFDIR { expansion.files.append(path) }
            } else {
                expansion.files.append(path)
            }
        }
    }
}
