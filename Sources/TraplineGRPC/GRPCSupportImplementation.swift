import GRPCNIOTransportHTTP2Posix
@_spi(Plumbing) import Trapline
import TraplineCore
@_spi(Plumbing) import TraplineServer

/// OTLP/gRPC for sidecar mode and the `otlp` exporter.
public enum TraplineGRPC {
    /// Makes OTLP/gRPC receivers and `otlp` exporters available to every sidecar and exporter
    /// of the process started after it; calling it again changes nothing. Allocates once.
    public static func install() { InstalledModules.install(OTLPGRPCSupport()) }
}

/// The gRPC side the server module calls through `GRPCSupport`.
struct OTLPGRPCSupport: GRPCSupport {
    func startReceiver(_ receiver: GRPCReceiverRequest, sidecar: Sidecar) throws -> any GRPCListener {
        try OTLPGRPCServer(
            settings: receiver.settings,
            service: OTLPGRPCService(
                sidecar: sidecar, signals: receiver.signals, source: receiver.source,
                maxMessageBytes: receiver.settings.maxReceiveMessageBytes, authorization: receiver.authorization),
            // gRPC clients require HTTP/2 negotiated by ALPN on a TLS connection.
            tls: try receiver.tls?.handlerFactory(applicationProtocols: ["h2"]))
    }

    func exportTransport(endpoint: HostPort, config: OTLPExporterConfig) -> any ExportTransport {
        GRPCExportTransport(endpoint: endpoint, config: config)
    }
}
