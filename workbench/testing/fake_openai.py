"""Command line entry: ``python -m workbench.testing.fake_openai --port P --latency-ms L``."""

from workbench.testing._fake_openai import main

if __name__ == "__main__":
    main()
