using System.Text.Json;
using Plateau.Cli;
using Plateau.Models.Zoo;

namespace Plateau.Cli.Tests;

public class ModelsCommandTests
{
    private static (int ExitCode, string Output) Run(params string[] args)
    {
        using var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            var exitCode = PlateauCommand.Build().Parse(args).Invoke();
            return (exitCode, output.ToString());
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    [Fact]
    public void ModelsPrintsOneRowPerRegisteredModelWithItsExactParameterCount()
    {
        var (exitCode, output) = Run("models");

        Assert.Equal(0, exitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in ModelRegistry.Names)
        {
            var row = Assert.Single(lines, l => l.StartsWith(name + " ", StringComparison.Ordinal));
            Assert.Contains($" {ModelRegistry.Describe(name).Parameters} ", row, StringComparison.Ordinal);
        }
        Assert.Contains(lines, l => l.StartsWith("resnet50 ", StringComparison.Ordinal) && l.Contains("25557032", StringComparison.Ordinal) && l.TrimEnd().EndsWith("4.089", StringComparison.Ordinal));
    }

    [Fact]
    public void ModelsJsonIsAnArrayOfEveryModelWithCountsAtNativeInputSize()
    {
        var (exitCode, output) = Run("models", "-o", "json");

        Assert.Equal(0, exitCode);
        using var document = JsonDocument.Parse(output);
        var entries = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(ModelRegistry.Names, entries.Select(e => e.GetProperty("name").GetString()));
        var se50 = entries.Single(e => e.GetProperty("name").GetString() == "se_resnet50");
        Assert.Equal(28_088_024, se50.GetProperty("parameters").GetInt64());
        Assert.Equal(224, se50.GetProperty("inputSize").GetInt32());
        var cifar = entries.Single(e => e.GetProperty("name").GetString() == "resnet20_cifar");
        Assert.Equal(269_722, cifar.GetProperty("parameters").GetInt64());
        Assert.Equal(32, cifar.GetProperty("inputSize").GetInt32());
    }

    [Fact]
    public void ModelsYamlParsesToTheSameList()
    {
        var (exitCode, output) = Run("models", "-o", "yaml");

        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(output));
        var entries = (YamlDotNet.RepresentationModel.YamlSequenceNode)stream.Documents.Single().RootNode;
        Assert.Equal(0, exitCode);
        Assert.Equal(ModelRegistry.Names, entries.Children.Select(e => ((YamlDotNet.RepresentationModel.YamlScalarNode)((YamlDotNet.RepresentationModel.YamlMappingNode)e)["name"]).Value));
    }
}
