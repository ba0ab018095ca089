using Microsoft.Extensions.Configuration;
using Plateau.Worker.Hosting;
using Plateau.Worker.Training;

namespace Plateau.Worker.Tests.Hosting;

/// <summary>Plateau:Worker:OverlapGradientReduction: off unless set, true/false only, and refused naming the setting otherwise.</summary>
public sealed class OverlapSettingTests
{
    [Fact]
    public void TheOverlapIsOffUnlessTheSettingTurnsItOn()
    {
        Assert.False(new WorkerOptions().OverlapGradientReduction);
        Assert.False(new TrainerOptions().OverlapGradientReduction);
        Assert.True(Bind("true").OverlapGradientReduction);
        Assert.False(Bind("False").OverlapGradientReduction);
    }

    [Fact]
    public void AValueOtherThanTrueOrFalseIsRefusedNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Bind("sometimes"));
        Assert.Contains("Plateau:Worker:OverlapGradientReduction", error.Message, StringComparison.Ordinal);
    }

    private static WorkerOptions Bind(string value)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Plateau:Worker:OverlapGradientReduction"] = value })
            .Build();
        var options = new WorkerOptions();
        configuration.GetSection(WorkerOptions.SectionName).Bind(options);
        return options;
    }
}
