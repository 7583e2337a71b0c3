extension BuiltinTrapPacks {
    /// The text of `Pipelines/traps/runtime.yaml`; a test keeps the two identical.
    public static let runtimeYAML = """
        # The built-in `runtime` trap pack (compiled into the binary; a test keeps the two identical).
        # Each rule is an OTTL condition over spans plus the trap class it identifies, what to do with
        # the span and the remedy. Use it from a `traps` processor:
        #
        #   processors:
        #     traps:
        #       rules:
        #         - builtin: runtime
        #       quarantine: file/quarantine
        #
        # Copy a rule inline to change its threshold or action: rules run in order and a span is one
        # event of the first rule that matches it.
        rules:
          # Performance: a server span far above its latency objective. The objective here is one
          # for the whole fleet (2 s for a request a user waits on); set one per service and span name
          # by copying the rule with `resource.attributes["service.name"] == "…" and name == "…"`.
          - name: latency-slo
            class: latency_slo_breach
            signal: traces
            when: 'kind == SPAN_KIND_SERVER and end_time - start_time > Duration("2s")'
            action: observe
            remedy: >-
              Find the slow child span in the trace (database, downstream call, lock); compare with the
              service's latency histogram before raising the objective.

          # Security: a TLS handshake that failed (expired or unknown certificate, protocol or cipher
          # mismatch). Spans record it as an error status or as `error.type`.
          - name: tls-handshake
            class: tls_handshake_failure
            signal: traces
            when:
              - 'status.code == STATUS_CODE_ERROR and IsMatch(status.message, "(?i)tls|handshake|x509|certificate")'
              - 'IsMatch(attributes["error.type"], "(?i)tls|handshake|x509|certificate")'
            action: block
            remedy: >-
              Check the peer's certificate chain and expiry (openssl s_client -connect host:443), the trust
              bundle the client mounts, and the TLS versions and ciphers both sides allow.

          # Security: a WAF or gateway refused (403) a request from an authenticated user, which this
          # rule takes as legitimate traffic: a false positive of a blocking rule.
          - name: waf-legitimate
            class: waf_block_legitimate
            signal: traces
            when: 'attributes["http.response.status_code"] == 403 and attributes["enduser.id"] != nil'
            action: block
            remedy: >-
              Look up the WAF rule id in the gateway's log for this request; add an exception for the
              authenticated path instead of turning the rule off.

          # Observability: the span was sampled with a probability below 1% (the `ot=th:` threshold of
          # OpenTelemetry's consistent probability sampling), so rare failures go unseen.
          - name: sampling-floor
            class: sampling_below_floor
            signal: traces
            when: 'trace_state != "" and SamplingProbability(trace_state) < 0.01'
            action: observe
            remedy: >-
              Raise the sampler's probability for this service, or add a tail-sampling policy that keeps
              error and slow traces whatever the head probability.

          # Observability: a Collector exporter span (`exporter/<id>/traces`) that failed to send more
          # than 5% of its spans.
          - name: export-success-floor
            class: export_success_below_floor
            signal: traces
            when: 'IsMatch(name, "^exporter/") and Double(attributes["send_failed_spans"]) > 0.05 * (Double(attributes["sent_spans"]) + Double(attributes["send_failed_spans"]))'
            action: block
            remedy: >-
              Check the next hop's health and the exporter's sending_queue and retry_on_failure settings;
              failed sends are lost telemetry.

        """
}
