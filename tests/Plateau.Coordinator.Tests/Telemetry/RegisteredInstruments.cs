using System.Diagnostics.Metrics;
using Plateau.ServiceDefaults.Telemetry;

namespace Plateau.Coordinator.Tests.Telemetry;

/// <summary>The instruments the code registers, as a MeterListener sees them published: the Plateau meter
/// and the .NET runtime's (what AddRuntimeInstrumentation exports on .NET 9+).</summary>
public static class RegisteredInstruments
{
    public const string RuntimeMeterName = "System.Runtime";

    public static IReadOnlyList<Instrument> Of(params string[] meterNames)
    {
        _ = PlateauMetrics.Meter; // the static instruments exist once the class is initialised
        var found = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (meterNames.Contains(instrument.Meter.Name))
                {
                    lock (found)
                    {
                        found.Add(instrument);
                    }
                }
            },
        };
        listener.Start();
        lock (found)
        {
            return [.. found];
        }
    }
}
