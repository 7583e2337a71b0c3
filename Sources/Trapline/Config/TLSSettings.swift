import Foundation

/// A receiver's `tls` block, as the Collector's `configtls.ServerConfig`: the certificate it
/// presents, and with `client_ca_file` the CA its clients' certificates must chain to (mTLS).
@_spi(Plumbing) public struct TLSServerSettings: Hashable, Sendable {
    /// `cert_file`: PEM certificate chain, leaf first.
    public var certFile = ""
    /// `key_file`: PEM private key of the leaf.
    public var keyFile = ""
    /// `client_ca_file`: PEM CA certificates a client's certificate must chain to; a client
    /// without one is refused during the handshake. Nil: clients are not asked for one.
    public var clientCAFile: String?
    /// `min_version`: `1.2` (default, as the Collector's) or `1.3`.
    public var minimumVersion = TLSVersion.v1_2
    /// `reload_interval`: how often `cert_file` and `key_file` are read again, so a rotated
    /// certificate is served to new connections without a restart. Nil: loaded once.
    public var reloadIntervalSeconds: Double?

    public init() {}
}

/// An exporter's `tls` block, as the Collector's `configtls.ClientConfig`.
@_spi(Plumbing) public struct TLSClientSettings: Hashable, Sendable {
    /// `insecure`: plaintext, no TLS at all (gRPC only; `otlphttp` decides by its URL scheme).
    public var insecure = false
    /// `insecure_skip_verify`: TLS without checking the server's certificate.
    public var insecureSkipVerify = false
    /// `ca_file`: PEM CA certificates the server's certificate must chain to; nil: the system's.
    public var caFile: String?
    /// `cert_file` and `key_file`: the client certificate for mTLS.
    public var certFile: String?
    public var keyFile: String?
    /// `server_name_override`: the name checked against the server's certificate (and sent as SNI).
    public var serverNameOverride: String?
    /// `min_version`: `1.2` (default) or `1.3`.
    public var minimumVersion = TLSVersion.v1_2

    public init() {}
}

/// The TLS versions a `min_version` may name.
@_spi(Plumbing) public enum TLSVersion: String, Hashable, Sendable {
    case v1_2 = "1.2"
    case v1_3 = "1.3"
}

extension ConfigDecoder {
    /// The keys of the Collector's TLS settings this version does not take, refused by name.
    private static let unsupportedTLSKeys = [
        "ca_pem", "cert_pem", "key_pem", "client_ca_file_reload", "cipher_suites", "max_version",
        "include_system_ca_certs_pool", "curve_preferences", "tpm",
    ]

    /// A receiver's `tls`: `cert_file` and `key_file` (both required), `client_ca_file`,
    /// `min_version`, `reload_interval`; each file must be readable now.
    mutating func decodeServerTLS(_ entry: Entry) -> TLSServerSettings? {
        guard let keys = entries(entry.node, at: entry.location) else { return nil }
        rejectUnknownKeys(
            keys,
            known: ["cert_file", "key_file", "client_ca_file", "min_version", "reload_interval", "ca_file"]
                + Self.unsupportedTLSKeys)
        var tls = TLSServerSettings()
        for key in keys {
            switch key.key {
            case "cert_file": tls.certFile = readableFile(key) ?? ""
            case "key_file": tls.keyFile = readableFile(key) ?? ""
            case "client_ca_file": tls.clientCAFile = readableFile(key)
            case "ca_file":
                diagnostics.error(
                    "a receiver's 'ca_file' has no use", at: key.location,
                    hint: "client_ca_file asks clients for certificates signed by it (mTLS)")
            case "min_version": tls.minimumVersion = tlsVersion(key) ?? tls.minimumVersion
            case "reload_interval": tls.reloadIntervalSeconds = seconds(key).flatMap { $0 > 0 ? $0 : nil }
            default:
                diagnostics.error("'\(key.key)' is not supported in this version", at: key.location)
            }
        }
        if tls.certFile.isEmpty || tls.keyFile.isEmpty {
            diagnostics.error(
                "a receiver's tls needs cert_file and key_file", at: entry.location,
                hint: "PEM files: the certificate chain (leaf first) and its private key")
            return nil
        }
        return tls
    }

    /// An exporter's `tls`: `insecure`, `insecure_skip_verify`, `ca_file`, `cert_file` with
    /// `key_file`, `server_name_override`, `min_version`.
    mutating func decodeClientTLS(_ entry: Entry) -> TLSClientSettings {
        var tls = TLSClientSettings()
        let keys = entries(entry.node, at: entry.location) ?? []
        rejectUnknownKeys(
            keys,
            known: [
                "insecure", "insecure_skip_verify", "ca_file", "cert_file", "key_file", "server_name_override",
                "min_version", "reload_interval",
            ] + Self.unsupportedTLSKeys)
        for key in keys {
            switch key.key {
            case "insecure": tls.insecure = bool(key.node, at: key.location) ?? tls.insecure
            case "insecure_skip_verify":
                tls.insecureSkipVerify = bool(key.node, at: key.location) ?? tls.insecureSkipVerify
            case "ca_file": tls.caFile = readableFile(key)
            case "cert_file": tls.certFile = readableFile(key)
            case "key_file": tls.keyFile = readableFile(key)
            case "server_name_override": tls.serverNameOverride = string(key.node, at: key.location)
            case "min_version": tls.minimumVersion = tlsVersion(key) ?? tls.minimumVersion
            case "reload_interval": break  // client certificates are read once per connection
            default:
                diagnostics.error("'\(key.key)' is not supported in this version", at: key.location)
            }
        }
        if (tls.certFile == nil) != (tls.keyFile == nil) {
            diagnostics.error("cert_file and key_file go together", at: entry.location)
        }
        return tls
    }

    private mutating func tlsVersion(_ key: Entry) -> TLSVersion? {
        guard let text = string(key.node, at: key.location) else { return nil }
        guard let version = TLSVersion(rawValue: text) else {
            diagnostics.error("min_version must be 1.2 or 1.3", at: key.location)
            return nil
        }
        return version
    }

    /// A path that must be readable when the file is loaded (a typo is a validate error, not a
    /// failed handshake later).
    private mutating func readableFile(_ key: Entry) -> String? {
        guard let path = string(key.node, at: key.location) else { return nil }
        guard FileManager.default.isReadableFile(atPath: path) else {
            diagnostics.error("cannot read \(key.key) '\(path)'", at: key.location)
            return nil
        }
        return path
    }
}
