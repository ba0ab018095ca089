namespace Plateau.ServiceDefaults.Telemetry;

/// <summary><c>Plateau:Telemetry</c>: where this process serves its Prometheus scrape endpoint.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Plateau:Telemetry";

    /// <summary>Port of <c>http://ADDRESS:PORT/metrics</c>; 0 (the default) serves none. <c>plateau local</c> gives every process one.</summary>
    public int MetricsPort { get; set; }

    /// <summary><c>loopback</c> (default) or <c>any</c> (every interface, as a pod needs for scraping).</summary>
    public string MetricsListenAddress { get; set; } = "loopback";
}
