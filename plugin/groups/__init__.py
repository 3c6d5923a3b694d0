"""Group robots (WeCom, DingTalk, Feishu): where department heads read what crossdept says."""
