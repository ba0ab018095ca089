namespace Plateau.Deploy.Tests;

/// <summary>yamllint (Debian's, installed by scripts/install-test-deps.sh) with the repository's .yamllint.yaml.</summary>
public sealed class YamlLintTests
{
    [Fact]
    public void The_manifests_and_examples_pass_yamllint()
    {
        var result = Tool.Run("yamllint", "--strict", "--config-file", ".yamllint.yaml", "k8s", "examples", "dashboards");

        Assert.True(result.ExitCode == 0, $"yamllint found problems:\n{result.Output}{result.Error}");
    }

    [Fact]
    public void Yamllint_with_the_repository_config_refuses_a_duplicated_key()
    {
        var file = Path.Combine(Path.GetTempPath(), $"plateau-yamllint-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n");
        try
        {
            var result = Tool.Run("yamllint", "--strict", "--config-file", ".yamllint.yaml", file);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("duplication of key \"kind\"", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
