run_scenario() { step "scenario placeholder"; docker images; }
