using System.Text.Json.Serialization;

namespace Plateau.Contracts.Specs;

[GenerateSerializer]
public enum ScheduleUnit
{
    [JsonStringEnumMemberName("epochs")] Epochs,
    [JsonStringEnumMemberName("iterations")] Iterations,
}
