from servicerules.cli import main

main()
