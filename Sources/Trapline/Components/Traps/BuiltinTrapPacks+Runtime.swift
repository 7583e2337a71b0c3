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
          # Performance: a server span far above its own recent latency: more than 3 times the p99 of
          # the server spans with its service and name over the last 15 minutes of event time (an
          # HdrHistogram per service and span name, judged once 100 spans are in the window). Nothing to
          # configure per service. For a fixed objective as well, copy the rule inline and add
          # `objective: 2s` under `latency`: spans over it are traps whatever the baseline says, also
          # before the baseline has its samples.
          - name: latency-baseline
            class: latency_slo_breach
            signal: traces
            when: 'kind == SPAN_KIND_SERVER'
            baseline:
              latency:
                window: 15m
                percentile: 99
                factor: 3
                min_samples: 100
            action: observe
            remedy: >-
              Find the slow child span in the trace (database, downstream call, lock); compare with the
              service's latency histogram for a lasting change.

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

          # Observability: a Collector exporter span (`exporter/<id>/traces`) whose exporter's success
          # rate (sent_spans against send_failed_spans) over the last 5 minutes fell below 95%, or more
          # than one point below its rate over the hour before.
          - name: export-success-floor
            class: export_success_below_floor
            signal: traces
            when: 'IsMatch(name, "^exporter/")'
            baseline:
              success:
                counts:
                  ok: sent_spans
                  failed: send_failed_spans
                window: 1h
                recent: 5m
                max_drop: 0.01
                floor: 0.95
                min_samples: 100
            action: block
            remedy: >-
              Check the next hop's health and the exporter's sending_queue and retry_on_failure settings;
              failed sends are lost telemetry.

          # Observability: a failed synthetic probe (`user_agent.synthetic.type` "test", as uptime checks
          # mark their requests) while the probes of its service and name succeed less over the last 5
          # minutes than the hour before (a drop of more than 10 points), or less than 90%.
          - name: probe-success-floor
            class: probe_success_below_floor
            signal: traces
            when: 'attributes["user_agent.synthetic.type"] == "test"'
            baseline:
              success:
                failed_when: 'status.code == STATUS_CODE_ERROR or attributes["http.response.status_code"] >= 500'
                window: 1h
                recent: 5m
                max_drop: 0.1
                floor: 0.9
                min_samples: 20
            action: observe
            remedy: >-
              Open the failed probe's trace for the failing hop; check the endpoint's recent deploys, its
              dependencies' health and the probe's own network path before silencing it.

        """
}
